# :lower (precedence 40) runs before :upperfirst (30).
require ["variables", "fileinto"];
set :upperfirst :lower "f" "bOSS mAIL";
fileinto "${f}";
