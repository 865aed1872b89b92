require "include";
include "inc-lists";
