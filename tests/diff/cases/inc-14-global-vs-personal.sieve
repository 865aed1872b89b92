# The same name in both places: :global takes the global one.
require "include";
include :global "inc-lists";
