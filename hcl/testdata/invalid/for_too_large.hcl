# want: 4: Value too large: These for expressions iterate too often
locals {
  pairs = setproduct(range(1000), range(130))
  sums  = [for p in local.pairs : p[0] + p[1]]
}
experiment "big" {
  task "train" {
    command = "sh"
  }
}
