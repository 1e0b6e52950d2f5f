"""remogpt.motion"""
