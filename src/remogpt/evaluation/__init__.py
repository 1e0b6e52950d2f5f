"""remogpt.evaluation"""
