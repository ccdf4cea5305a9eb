# want: 4: Invalid function argument: Invalid value for "upper" parameter: randint needs whole numbers; got 2.5
experiment "ints" {
  space {
    layers = randint(1, 2.5)
  }
  task "train" {
    command = "python3"
  }
}
