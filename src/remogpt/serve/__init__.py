"""remogpt.serve"""
