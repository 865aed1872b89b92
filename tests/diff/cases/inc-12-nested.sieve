require "include";
include "inc-nested";
