# An explicit keep is not undone by a later discard.
keep;
discard;
