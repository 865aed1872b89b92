require ["fileinto", "x-mailsift-no-such-extension"];
fileinto "Anyway";
