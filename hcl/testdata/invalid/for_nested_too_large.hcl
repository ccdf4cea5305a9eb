# want: 4: Value too large: These for expressions iterate too often
locals {
  r     = range(1000)
  cubes = [for a in local.r : [for b in local.r : [for c in local.r : a * b * c]]]
}
experiment "big" {
  task "train" {
    command = "sh"
  }
}
