"""remogpt.tokenizer"""
