# Nothing but a comment: implicit keep.
