# fileinto without require "fileinto" is an error.
fileinto "NoRequire";
