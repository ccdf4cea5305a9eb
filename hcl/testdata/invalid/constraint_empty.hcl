# want: 3: Empty constraint: A constraint needs an attribute
experiment "constrained" {
  constraint {
    value = "amd64"
  }
  task "train" {
    command = "python3"
  }
}
