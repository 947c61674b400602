"""Graphs as token sequences: the tokenize stage (vocabulary, channels), graph positional encodings,
canonical node order, and loading token shards as padded tensors."""
