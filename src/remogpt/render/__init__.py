"""remogpt.render"""
