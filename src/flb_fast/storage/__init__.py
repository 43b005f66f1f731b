"""The storage layer under the engine: where chunks live from an input's emit until every output took them.

``store.ChunkStore`` owns the bookkeeping (open chunks per input and tag, bytes held against each
input's limit, chunk ids, the outputs that still owe each chunk); ``memory.MemoryBackend`` and
``filesystem.FilesystemBackend`` are the two places a chunk's records can be kept, chosen per input
by ``storage.type`` as in Fluent Bit's ``flb_storage.c``.
"""
