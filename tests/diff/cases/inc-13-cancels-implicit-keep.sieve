require "include";
include "inc-discard";
