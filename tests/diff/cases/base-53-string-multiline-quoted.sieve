# A quoted string may span lines; the line break is part of it.
require "reject";
reject "First line
second line";
