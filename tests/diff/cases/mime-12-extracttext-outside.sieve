require ["mime", "extracttext", "variables", "fileinto"];
extracttext "t";
fileinto "After";
