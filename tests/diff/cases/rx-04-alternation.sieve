require ["regex", "fileinto"];
if header :regex "list-id" "<(dev|users)\\.lists\\." { fileinto "Project"; }
