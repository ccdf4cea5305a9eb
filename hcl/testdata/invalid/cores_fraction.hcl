# want: 4: Invalid value for cores: The cores must be a whole number; got 0.5
experiment "cores" {
  resources {
    cores = 0.5
  }
  task "train" {
    command = "python3"
  }
}
