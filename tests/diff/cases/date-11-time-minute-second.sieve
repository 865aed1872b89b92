require ["date", "fileinto"];
if allof (date :originalzone "date" "time" "16:02:11",
          date :originalzone "date" "minute" "02",
          date :originalzone "date" "second" "11") { fileinto "Time"; }
