"""PL-TMR, the part-level text-motion retriever (paper §2.2), and the retrieval database (§2.3).

One module per job:
    layers.py          SummaryTransformer: the small Transformer (summary token, positions, padding mask) of both encoders
    text_encoder.py    frozen sentence encoder (MiniLM-L6 by default), per-caption token-feature cache, TextTransformer
    motion_encoder.py  one SummaryTransformer per body part (or one over the whole vector), concatenated + projected
    model.py           PLTMRConfig, PLTMR (save_pretrained / from_pretrained), contrastive_loss
    train.py           presets tiny / small / paper, RetrieverTrainConfig, Lightning training with resume
    database.py        RetrievalDatabase: embeddings + FAISS indexes, four similarity types, exclusions
    metrics.py         TMR's protocols (a) all, (b) threshold, (c) dissimilar, (d) batches of 32
    evaluate.py        a trained model on a split of a dataset folder -> metrics

Typical use:
    from remogpt.retrieval.model import PLTMR
    from remogpt.retrieval.database import RetrievalDatabase, Exclude
    db = RetrievalDatabase.load("index/")
    model = db.load_retriever()
    hits = db.search_texts(["a person waves with the left hand"], model, k=1)[0]
    # {"text->motion": [Hit(name, motion_id, caption, similarity, tokens)], "text->text": [...]}
"""
