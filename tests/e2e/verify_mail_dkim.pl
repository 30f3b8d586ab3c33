#!/usr/bin/perl
# NAME
#	verify_mail_dkim.pl - verify a message's DKIM signatures with Mail::DKIM, without DNS
# SYNOPSIS
#	verify_mail_dkim.pl KEYFILE < message
# DESCRIPTION
#	KEYFILE holds one "selector._domainkey.domain TXT-record-text" per line.  Mail::DKIM's DNS
#	layer is pointed at an in-process resolver object (Mail::DKIM::DNS::resolver(), the
#	documented hook: Mail::DKIM::DNS::query() only calls ->send($name, $type) and
#	->errorstring on it) that answers TXT queries from KEYFILE and NXDOMAIN for everything
#	else, so nothing reaches the network or the system resolver.
#
#	Prints one line per signature, tab-separated: result, d=, s=, a=, detail.
#	result is Mail::DKIM's (pass, fail, invalid, temperror, none...).  Debian 12's
#	Mail::DKIM (1.20230212) cannot check Ed25519; the Python caller maps those.
#	Exit status 0 unless the script itself fails.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS;

package FixedResolver;

sub new {
	my ($class, $table) = @_;
	return bless { table => $table, error => 'NOERROR' }, $class;
}

# send - answer like Net::DNS::Resolver::send: a Net::DNS::Packet
sub send {
	my ($self, $name, $type) = @_;
	$type ||= 'A';
	my $key = lc $name;
	$key =~ s/\.$//;
	my $packet = Net::DNS::Packet->new($name, $type, 'IN');
	$packet->header->qr(1);
	$packet->header->aa(1);
	my $txt = $self->{table}{$key};
	if (!defined $txt) {
		$packet->header->rcode('NXDOMAIN');
	} elsif (uc $type eq 'TXT') {
		my @chunks = unpack('(a255)*', $txt);
		@chunks = ('') unless @chunks;
		$packet->push(answer => Net::DNS::RR->new(
		    owner => $name, type => 'TXT', ttl => 300, txtdata => [@chunks]));
	}
	$self->{error} = 'NOERROR';
	return $packet;
}

sub errorstring { return $_[0]{error}; }

package main;

my $keyfile = shift @ARGV or die "usage: $0 KEYFILE < message\n";
my %table;
open(my $kf, '<', $keyfile) or die "$keyfile: $!\n";
while (my $line = <$kf>) {
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my ($name, $txt) = split(/\s+/, $line, 2);
	$name = lc $name;
	$name =~ s/\.$//;
	$table{$name} = defined $txt ? $txt : '';
}
close $kf;

Mail::DKIM::DNS::resolver(FixedResolver->new(\%table));

binmode STDIN;
my $dkim = Mail::DKIM::Verifier->new();
{
	local $/;
	my $msg = <STDIN>;
	$msg = '' unless defined $msg;
	# Mail::DKIM wants CRLF line endings
	$msg =~ s/\r?\n/\r\n/g;
	$dkim->PRINT($msg);
}
$dkim->CLOSE();

foreach my $sig ($dkim->signatures) {
	my $detail = $sig->result_detail // '';
	$detail =~ s/[\t\r\n]+/ /g;
	printf "%s\t%s\t%s\t%s\t%s\n", $sig->result // 'none', $sig->domain // '',
	    $sig->selector // '', $sig->algorithm // '', $detail;
}
exit 0;
