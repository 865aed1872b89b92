# keep and the implicit keep are the same delivery.
keep;
