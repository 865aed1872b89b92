require "fileinto";
addflag "\\Seen";
fileinto "Boss";
