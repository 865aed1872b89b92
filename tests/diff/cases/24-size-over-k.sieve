# The message is about 48K.
require "fileinto";
if size :over 40K {
  fileinto "Big";
}
