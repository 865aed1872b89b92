require "include";
include :personal "inc-lists";
