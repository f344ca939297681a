package providers

import (
	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/amazon"
	"github.com/markbates/goth/providers/battlenet"
	"github.com/markbates/goth/providers/bitbucket"
	"github.com/markbates/goth/providers/box"
	"github.com/markbates/goth/providers/classlink"
	"github.com/markbates/goth/providers/deezer"
	"github.com/markbates/goth/providers/digitalocean"
	"github.com/markbates/goth/providers/dropbox"
	"github.com/markbates/goth/providers/eveonline"
	"github.com/markbates/goth/providers/facebook"
	"github.com/markbates/goth/providers/gitea"
	"github.com/markbates/goth/providers/gitlab"
	"github.com/markbates/goth/providers/heroku"
	"github.com/markbates/goth/providers/hubspot"
	"github.com/markbates/goth/providers/line"
	"github.com/markbates/goth/providers/linkedin"
	"github.com/markbates/goth/providers/meetup"
	"github.com/markbates/goth/providers/microsoftonline"
	"github.com/markbates/goth/providers/onedrive"
	"github.com/markbates/goth/providers/patreon"
	"github.com/markbates/goth/providers/paypal"
	"github.com/markbates/goth/providers/salesforce"
	"github.com/markbates/goth/providers/slack"
	"github.com/markbates/goth/providers/soundcloud"
	"github.com/markbates/goth/providers/spotify"
	"github.com/markbates/goth/providers/strava"
	"github.com/markbates/goth/providers/stripe"
	"github.com/markbates/goth/providers/twitch"
	"github.com/markbates/goth/providers/typetalk"
	"github.com/markbates/goth/providers/uber"
	"github.com/markbates/goth/providers/vk"
	"github.com/markbates/goth/providers/yahoo"
	"github.com/markbates/goth/providers/yammer"
	"github.com/markbates/goth/providers/zoom"
)

// goth's catalogue: every kind here is one of goth's OAuth 2.0
// authorization-code providers whose constructor takes (key, secret,
// callback, scopes...) and whose provider has an HTTPClient field, so that
// each call runs under the gateway's context and timeout. Scopes are the
// ones that find the e-mail where goth's defaults do not; nil keeps goth's.
// An e-mail from these kinds counts as unverified: goth does not say (only
// GitHub's, github.go, is checked). Adding a goth kind is one line here.
// The goth providers that cannot work, and why, are listed in README.md
// ("Provider kinds").

// gothStd is a goth kind of the common shape.
func gothStd(name, display string, scopes []string, newP func(gothArgs) goth.Provider) *spec {
	return &spec{name: name, displayName: display, scopes: scopes, rejected: invalidGrant,
		goth: &gothSpec{new: newP}}
}

// gothCustom is a goth kind whose URLs may be set (self-hosted servers):
// NewCustomisedURL(key, secret, callback, auth, token, profile, scopes...).
func gothCustom(name, display string, scopes []string, defaults Endpoints,
	newP func(key, secret, callback, authURL, tokenURL, profileURL string, scopes ...string) goth.Provider) *spec {
	s := gothStd(name, display, scopes, func(a gothArgs) goth.Provider {
		p := newP(a.clientID, a.secret, a.callback, or(a.ep.AuthURL, defaults.AuthURL),
			or(a.ep.TokenURL, defaults.TokenURL), or(a.ep.UserinfoURL, defaults.UserinfoURL), a.scopes...)
		setHTTPClient(p, a.client)
		return p
	})
	s.goth.custom = true
	return s
}

// gothKinds are goth's kinds by name.
func gothKinds() map[string]*spec {
	return map[string]*spec{
		"github":          &githubKind,
		"amazon":          gothStd("amazon", "Amazon", []string{"profile"}, stdGoth(amazon.New)),
		"battlenet":       gothStd("battlenet", "Battle.net", nil, stdGoth(battlenet.New)),
		"bitbucket":       gothStd("bitbucket", "Bitbucket", []string{"account", "email"}, stdGoth(bitbucket.New)),
		"box":             gothStd("box", "Box", nil, stdGoth(box.New)),
		"classlink":       gothStd("classlink", "ClassLink", nil, stdGoth(classlink.New)),
		"deezer":          gothStd("deezer", "Deezer", nil, stdGoth(deezer.New)),
		"digitalocean":    gothStd("digitalocean", "DigitalOcean", nil, stdGoth(digitalocean.New)),
		"dropbox":         gothStd("dropbox", "Dropbox", nil, stdGoth(dropbox.New)),
		"eveonline":       gothStd("eveonline", "EVE Online", nil, stdGoth(eveonline.New)),
		"facebook":        gothStd("facebook", "Facebook", []string{"email", "public_profile"}, stdGoth(facebook.New)),
		"heroku":          gothStd("heroku", "Heroku", nil, stdGoth(heroku.New)),
		"hubspot":         gothStd("hubspot", "HubSpot", nil, stdGoth(hubspot.New)),
		"line":            gothStd("line", "LINE", []string{"profile", "openid", "email"}, stdGoth(line.New)),
		"linkedin":        gothStd("linkedin", "LinkedIn", nil, stdGoth(linkedin.New)),
		"meetup":          gothStd("meetup", "Meetup", nil, stdGoth(meetup.New)),
		"microsoftonline": gothStd("microsoftonline", "Microsoft", nil, stdGoth(microsoftonline.New)),
		"onedrive":        gothStd("onedrive", "OneDrive", nil, stdGoth(onedrive.New)),
		"patreon":         gothStd("patreon", "Patreon", nil, stdGoth(patreon.New)),
		"paypal":          gothStd("paypal", "PayPal", nil, stdGoth(paypal.New)),
		"salesforce":      gothStd("salesforce", "Salesforce", nil, stdGoth(salesforce.New)),
		"slack":           gothStd("slack", "Slack", nil, stdGoth(slack.New)),
		"soundcloud":      gothStd("soundcloud", "SoundCloud", nil, stdGoth(soundcloud.New)),
		"spotify":         gothStd("spotify", "Spotify", []string{"user-read-email", "user-read-private"}, stdGoth(spotify.New)),
		"strava":          gothStd("strava", "Strava", nil, stdGoth(strava.New)),
		"stripe":          gothStd("stripe", "Stripe", nil, stdGoth(stripe.New)),
		"twitch":          gothStd("twitch", "Twitch", []string{"user:read:email"}, stdGoth(twitch.New)),
		"typetalk":        gothStd("typetalk", "Typetalk", nil, stdGoth(typetalk.New)),
		"uber":            gothStd("uber", "Uber", nil, stdGoth(uber.New)),
		"vk":              gothStd("vk", "VK", nil, stdGoth(vk.New)),
		"yahoo":           gothStd("yahoo", "Yahoo", nil, stdGoth(yahoo.New)),
		"yammer":          gothStd("yammer", "Yammer", nil, stdGoth(yammer.New)),
		"zoom":            gothStd("zoom", "Zoom", nil, stdGoth(zoom.New)),
		"gitlab": gothCustom("gitlab", "GitLab", []string{"read_user"},
			// goth's gitlab.ProfileURL is API v3, gone since GitLab 11.
			Endpoints{AuthURL: gitlab.AuthURL, TokenURL: gitlab.TokenURL, UserinfoURL: "https://gitlab.com/api/v4/user"},
			func(k, s, c, a, t, p string, sc ...string) goth.Provider {
				return gitlab.NewCustomisedURL(k, s, c, a, t, p, sc...)
			}),
		"gitea": gothCustom("gitea", "Gitea", nil,
			Endpoints{AuthURL: gitea.AuthURL, TokenURL: gitea.TokenURL, UserinfoURL: gitea.ProfileURL},
			func(k, s, c, a, t, p string, sc ...string) goth.Provider {
				return gitea.NewCustomisedURL(k, s, c, a, t, p, sc...)
			}),
	}
}
