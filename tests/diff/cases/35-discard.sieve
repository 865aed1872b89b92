if header :is "auto-submitted" "auto-generated" {
  discard;
}
