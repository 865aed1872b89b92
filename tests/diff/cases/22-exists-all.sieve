require "fileinto";
if exists ["List-Id", "List-Post", "Precedence"] {
  fileinto "Lists";
}
