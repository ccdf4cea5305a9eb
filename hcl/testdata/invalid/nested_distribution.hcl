# want: 4: Nested distribution: A distribution must be the whole value of a parameter
experiment "nested" {
  space {
    layers = [uniform(0, 1), 3]
  }
  task "train" {
    command = "python3"
  }
}
