"""remogpt.data"""
