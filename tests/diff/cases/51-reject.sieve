require "reject";
if header :is "x-spam-flag" "YES" {
  reject "Your message looks like spam to me.";
}
