require ["fileinto", "reject";
fileinto "Never";
