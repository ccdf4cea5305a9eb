# want: 3: Value too large: The arguments of setproduct are too large
locals {
  combinations = setproduct(range(1000), range(1000), range(1000))
}
experiment "big" {
  task "train" {
    command = "sh"
  }
}
