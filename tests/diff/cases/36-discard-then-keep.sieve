# discard only cancels the implicit keep; the explicit keep still files.
discard;
keep;
