# want: 5: Reserved parameter name: "id" is reserved
experiment "reserved" {
  space {
    x  = uniform(0, 1)
    id = choice(["a", "b"])
  }
  task "train" {
    command = "python3"
  }
}
