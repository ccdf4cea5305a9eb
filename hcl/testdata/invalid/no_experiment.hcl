# want: 1: Missing experiment block: An experiment file needs one block
locals {
  x = 1
}
