"""remogpt.retrieval"""
