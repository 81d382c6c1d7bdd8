"""The pipeline board: columns of deal cards, moves by drag, key or menu, and the deal panel."""
