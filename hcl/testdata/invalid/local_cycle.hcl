# want: 3: Local values depend on each other: The local value "a" is part of a cycle
locals {
  a = local.b + 1
  b = local.a + 1
}
experiment "locals" {
  task "train" {
    command = "python3"
  }
}
