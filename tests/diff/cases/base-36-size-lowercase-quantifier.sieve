# Quantifiers are case-insensitive (ABNF literals): 40k is 40K.
require "fileinto";
if size :over 40k { fileinto "Big"; }
