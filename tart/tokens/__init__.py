"""Graphs as token sequences: the tokenize stage (vocabulary, channels), graph positional encodings, loading token
shards as padded tensors, token graphs and their isomorphism classes, canonical node order."""
