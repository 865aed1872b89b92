require "reject";
reject "Désolé, je suis absent — merci.";
