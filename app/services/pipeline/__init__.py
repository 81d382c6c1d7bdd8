"""The deal pipeline: the board's figures, moves, the deal's detail and its timeline."""
