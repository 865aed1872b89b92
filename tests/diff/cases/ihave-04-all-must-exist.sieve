require ["ihave", "fileinto"];
if ihave ["fileinto", "x-no-such-extension"] { fileinto "Wrong"; }
else { fileinto "NotAll"; }
