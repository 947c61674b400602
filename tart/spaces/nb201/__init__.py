"""NAS-Bench-201: its 15,625 cells as PyTorch networks, their labels and FLOPs, cell analyses (live ops, paths,
function classes), and the build and split stages."""
