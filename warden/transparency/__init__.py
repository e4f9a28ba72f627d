"""EU Digital Services Act transparency: the Transparency Database's statement rules (`rules`), the
statements export (`export`) and the Art. 15/24 transparency report (`report`)."""
