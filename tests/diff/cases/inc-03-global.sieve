require "include";
include :global "spam-check";
