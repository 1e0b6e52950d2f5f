"""remogpt.language"""
