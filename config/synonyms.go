package config

// BrokerSynonyms lists the broker configs that can supply name's value,
// most precise unit first (log.retention.ms, .minutes, .hours), as
// DescribeConfigs reports synonyms. A config without unit siblings is its
// own only synonym.
func BrokerSynonyms(name string) []string {
	switch name {
	case "log.retention.ms", "log.retention.minutes", "log.retention.hours":
		return []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}
	case "log.roll.ms", "log.roll.hours":
		return []string{"log.roll.ms", "log.roll.hours"}
	}
	return []string{name}
}
