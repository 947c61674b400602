"""Files in and out: the DeepNets-1M HDF5 layout (read, validate, write), fetching the shared benchmark files,
and the extract stage (HDF5 -> graph Parquet shards)."""
